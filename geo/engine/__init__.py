"""The road engine: CSR networks and their cache, searches, the access rule, isochrones,
routes, hazard scenarios, seasons, shelter status, the transit search and travel profiles.

The engine imports only :mod:`layers` and :mod:`geo.summary`: it knows nothing of the
analyses that use it, of maps or reports, or of the command line.
"""
