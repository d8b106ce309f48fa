"""The API's routes and dependencies; ``hook.py`` assembles them into the application."""
