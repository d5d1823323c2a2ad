"""What people see and keep: interactive and printed maps, reports, route and team sheets,
the files each analysis writes (:mod:`geo.outputs.files`), data and layer exports, labels,
CSV safety and the vendored browser assets.

Outputs draw and write results; they never run a search (the results carry what they draw).
"""
