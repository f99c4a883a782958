"""The Telegram front end (python-telegram-bot 22): assembly in app.py, thin handlers beside it."""
