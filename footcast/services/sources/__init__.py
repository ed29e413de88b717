"""Sources behind the canonical schema: which source serves a league, and fetching from it.

A league's source comes from the league registry (``catalogue.LEAGUES``): football-data.co.uk
for the real divisions (``football_data``: one file per league-season; ``football_data_extra``:
one file per league holding all its seasons), the simulator for SIM leagues. Both return canonical frames with
lineage, so the layers above never know which source a row came from.

Every source implements :class:`base.Source` (fetch one league-season's results, list the
upcoming fixtures of leagues) in its own module (``football_data``, ``football_data_extra``, ``simulator``);
:class:`registry.LeagueSources` picks each league's source by the catalogue's ``League.source``.
A new source is a new module here plus its entry in ``registry``.
"""
