"""Step 2: a question → ranked stories and one decision (story, did you mean, small talk, none). Pure, no I/O."""
