"""Step 3: the decision → a transport-free `Reply`: the storyteller, buttons, templates and Telegram-safe HTML."""
