"""A local stand-in for the Heroku Platform API, its builds and its router (see README.md)."""
