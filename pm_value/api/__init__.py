"""Project-wide REST API pieces: the error format and pagination every endpoint shares."""
