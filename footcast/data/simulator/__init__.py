"""Simulated football leagues in the canonical match schema (offline demo, tests, benchmarks).

The simulator is a source like football-data.co.uk: it writes one league x season partition at a
time, as canonical rows (:mod:`footcast.data.schema`), with lineage
(``source="simulator"``, ``source_url="simulator://SIM1/2024-25"``, a sha256 of the partition's
content, 1-based ``source_line``).

Model
-----
- A *country* holds a pair of leagues: ``SIM1`` (tier 1) and ``SIM2`` (tier 2) form country 0,
  ``SIM3``/``SIM4`` country 1, and so on (:func:`simulated_league` knows every ``SIMn``). The 40
  teams of a country have a latent quality ``q`` (goal-supremacy scale, log of expected goals)
  and a style ``s`` (open vs. cagey): attack = q/2 + s, defence = q/2 - s. Quality is a
  long-run club level plus a deviation that follows an AR(1) between seasons (a mean-reverting
  random walk, with a small pull up for top-flight money) and drifts round by round within a
  season.
- Scores come from a Dixon-Coles corrected double Poisson truncated at 15 goals, drawn exactly
  (rejection from two Poisson draws):
  ``log lambda_home = mu_tier + home_adv + att_home - def_away``,
  ``log lambda_away = mu_tier + att_away - def_home``; the home advantage declines slowly over the
  years and nearly vanishes in 2020/21 (closed doors). Half-time goals are a binomial split of
  full-time goals; shots, shots on target, corners, fouls and cards are over-dispersed counts
  driven by the expected goals (so by strength).
- Season ``s`` is simulated for both leagues of a country; its final table (points, goal
  difference, goals scored, then a random draw) sends the bottom 3 of tier 1 down and the top 3
  of tier 2 up for ``s + 1``. The chain starts at :data:`FIRST_SEASON` and is cached per
  (country, seed).
- Fixtures: a double round robin (circle method with alternating home/away, second half
  mirrored) on a calendar from early August to May: weekend rounds (Friday to Monday),
  international and cup breaks, Boxing Day, and midweek rounds (Tuesday/Wednesday) where needed;
  UK local kickoffs at 12:30/15:00/17:30/19:45/20:00 converted with
  :func:`schema.uk_kickoff_to_utc`. Rounds never share or touch a day, so no team plays twice on
  a day (nor on consecutive days).
- Odds: the market believes a noisy version of the true expected goals (a per team-season error
  that opening and closing prices share, plus per-match noise that is larger for opening
  prices). Books add their own noise and a margin with a power-method shape (longshots carry
  more of it): "b365" (~8% in 1993 down to ~5%), "ps" (~2.5-3%), "avg" (~8% down to ~5.5%) and
  "max" (the best price over those books and a low-margin one: overround about -1%..+1%).
  Prices are rounded to 2 decimals and never below 1.02. Other books of the schema stay null.

Every random draw comes from a stream keyed by (seed, country, season[, tier], purpose), so a
partition does not depend on what was simulated before it, or in which order.
"""
