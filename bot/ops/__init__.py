"""Operations: the exchange log, its tail and report, hot reload, moderators' digests."""
