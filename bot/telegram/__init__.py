"""The Telegram front end (python-telegram-bot 22): built once in app.py, handlers.py beside it."""
