"""Before a catalogue is served: every template rendered and held to Telegram's HTML, confusable phrasings."""
