"""Command-line tools that run the engine on files and pipes (``python -m agent mask|restore|scan``)."""
