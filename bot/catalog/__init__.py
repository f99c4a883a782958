"""Step 1 of the data path: story files on disk → a checked `Catalog`, with problems a marketer can act on."""
