"""Travel profiles, speeds, the access rule and the distance defaults, each written once.

Every analysis, the command line (its ``choices`` and defaults) and the app read these;
changing the default access rule or a walking speed is a change to this file alone.

=========================  ==========================================================
:data:`WALK_PROFILES`      who walks: ``walk`` (80 m/min) and ``elderly`` (50 m/min)
:data:`ROUTE_PROFILES`     the walking profiles and ``drive`` (a route's choices)
:data:`DEFAULT_ACCESS`     how a point joins the roads (``nearest`` road segment)
:data:`DEFAULT_MAX_DISTANCE`  the walking threshold to a サロン (500 m)
=========================  ==========================================================

The winter penalties per profile are the region file's (``[season.winter]``, read by
:mod:`layers.winter`); a test keeps its profiles equal to :data:`WALK_PROFILES`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt

from layers.errors import ParameterError

__all__ = [
    "ACCESS_RULES",
    "DEFAULT_ACCESS",
    "DEFAULT_CIRCUITY",
    "DEFAULT_JOIN_RADIUS",
    "DEFAULT_MAX_ACCESS",
    "DEFAULT_MAX_DISTANCE",
    "DEFAULT_PROFILE",
    "DRIVE_KMH",
    "ROUTE_PROFILES",
    "SPEEDS_M_PER_MIN",
    "WALK_PROFILES",
    "metres_for",
    "minutes_for",
    "threshold_metres",
    "winter_factor",
]

SPEEDS_M_PER_MIN = {"walk": 80.0, "elderly": 50.0}
"""Walking speeds (m/min): 80 (4.8 km/h, the usual planning speed) and 50 for
elderly people (3 km/h)."""

WALK_PROFILES = tuple(SPEEDS_M_PER_MIN)
"""The walking profiles: who walks (``walk``, ``elderly``)."""

DEFAULT_PROFILE = "walk"
"""The profile of an analysis that is not told one."""

ROUTE_PROFILES = (*WALK_PROFILES, "drive")
"""A route's profiles: the walking ones and driving on the drive network."""

DRIVE_KMH = {"motorway": 80, "trunk": 50, "primary": 40, "secondary": 40, "tertiary": 30,
             "residential": 20, "unclassified": 20, "track": 10}
"""Drive speeds (km/h) by road class, for travel times of drive graphs."""

ACCESS_RULES = ("nearest", "multi")
"""How a point joins the roads: its ``nearest`` road segment, or every segment within
:data:`DEFAULT_JOIN_RADIUS` that it reaches without crossing a barrier (``multi``)."""

DEFAULT_ACCESS = "nearest"
"""The access rule of every analysis that is not told one (:mod:`geo.engine.access`)."""

DEFAULT_MAX_ACCESS = 500.0
"""Metres: a point farther than this from every road it may join is unreachable."""

DEFAULT_JOIN_RADIUS = 150.0
"""Metres: the radius of the ``multi`` rule."""

DEFAULT_MAX_DISTANCE = 500.0
"""Metres: a common planning radius for an elderly person's walk to a サロン."""

DEFAULT_CIRCUITY = 1.3
"""Network / straight-line distance when no roads are given (typical of Japanese
towns; measured on the roads when they exist, :func:`geo.analyses.coverage.circuity_of`)."""


def _speed(profile: str) -> float:
    if profile not in SPEEDS_M_PER_MIN:
        raise ParameterError("歩く人の種類が分かりません。", parameter="profile",
                             fix=f"次のいずれか: {', '.join(WALK_PROFILES)}")
    return SPEEDS_M_PER_MIN[profile]


def minutes_for(metres: float, profile: str = DEFAULT_PROFILE) -> float:
    """Minutes of ``profile``'s walk for a distance in metres (effective metres in winter)."""
    return float(metres) / _speed(profile)


def metres_for(minutes: float, profile: str = DEFAULT_PROFILE) -> float:
    """Metres that ``profile`` walks in ``minutes`` (at the summer speed: a winter network's
    weights are effective metres at that speed)."""
    return float(minutes) * _speed(profile)


def threshold_metres(*, max_distance: float | None, max_minutes: float | None,
                     profile: str = DEFAULT_PROFILE) -> float:
    """A threshold in metres: the given metres, or minutes at the profile's summer speed."""
    if max_minutes is not None:
        if not (math.isfinite(max_minutes) and max_minutes > 0):
            raise ParameterError("分数のしきい値は正の数にしてください。", parameter="max_minutes",
                                 fix="例: --max-minutes 10")
        return metres_for(max_minutes, profile)
    if max_distance is None:
        raise ParameterError("しきい値がありません。", parameter="max_distance",
                             fix="--max-distance（m）か --max-minutes（分）を指定してください。")
    return float(max_distance)


def winter_factor(per_km_minutes: npt.ArrayLike, profile: str) -> Any:
    """The factor on a road's length for a winter penalty of ``per_km_minutes`` min/km:
    ``L × (1 + penalty × speed / 1000)`` effective metres take as long at the summer
    speed as ``L`` metres take in winter."""
    import numpy as np

    return 1.0 + np.asarray(per_km_minutes, float) * _speed(profile) / 1000.0
