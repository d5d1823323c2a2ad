"""The files each analysis writes: one module per analysis, each with ``write_outputs``
(or the analysis' named writer), staged and neutralised like every other output."""
