"""Wire formats of tracker apps we did not write, each turned into the pings ingest takes."""
