"""Instance generators and loaders; the Distributional MIPLIB style registry.

Generators are functions ``generator(rng, **size params) -> Problem`` (MIP domains) or
``-> comb instance`` (routing and scheduling, in :mod:`.routing`). Registered distributions
(:func:`distributions`, :func:`get`) fix a generator's parameters at a calibrated hardness
level; :func:`generate` writes their instances with a manifest and :func:`load` reads such
directories, any folder of MPS/LP files (with ``.solu`` known objectives), or generates a
distribution's instances on demand.
"""

from . import routing
from .auctions import combinatorial_auction
from .facility import capacitated_facility_location
from .graphs import (
    barabasi_albert,
    erdos_renyi,
    generalized_independent_set,
    independent_set,
    vertex_cover,
)
from .knapsack import market_split, multidimensional_knapsack, multiple_knapsack
from .loader import MANIFEST, Collection, Reference, load, read_manifest, read_solu
from .materialize import generate, solve_reference
from .ml4co import item_placement, load_balancing
from .registry import CALIBRATION, LEVELS, SPLITS, Distribution, distributions, get
from .routing import read_cvrplib, read_tsplib, write_tsplib
from .scheduling import total_tardiness
from .setcover import set_cover

__all__ = [
    "CALIBRATION",
    "LEVELS",
    "MANIFEST",
    "SPLITS",
    "Collection",
    "Distribution",
    "Reference",
    "barabasi_albert",
    "capacitated_facility_location",
    "combinatorial_auction",
    "distributions",
    "erdos_renyi",
    "generalized_independent_set",
    "generate",
    "get",
    "independent_set",
    "item_placement",
    "load",
    "load_balancing",
    "market_split",
    "multidimensional_knapsack",
    "multiple_knapsack",
    "read_cvrplib",
    "read_manifest",
    "read_solu",
    "read_tsplib",
    "routing",
    "set_cover",
    "solve_reference",
    "total_tardiness",
    "vertex_cover",
    "write_tsplib",
]
