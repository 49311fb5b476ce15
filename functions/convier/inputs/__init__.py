"""Files staff give us (a post, a campaign file, a list file) turned into typed values,
or errors naming file and line."""
