"""Files the app ships that are not code (stylesheet, icons); read with importlib.resources."""
