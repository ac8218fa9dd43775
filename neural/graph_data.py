"""``torch_geometric`` data for :class:`~hybridsolve.neural.graph.MIPGraph`.

Imported only where torch and torch_geometric are needed
(:meth:`~hybridsolve.neural.graph.MIPGraph.to_data`), so that :mod:`.graph` itself stays
torch-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .runtime import require_geometric, require_torch

if TYPE_CHECKING:
    from .graph import MIPGraph

torch = require_torch()
Data = require_geometric().data.Data

__all__ = ["BipartiteData"]


class BipartiteData(Data):
    """A bipartite MIP graph that batches correctly.

    ``edge_index[0]`` indexes constraint nodes (``x_con``) and ``edge_index[1]`` variable
    nodes (``x_var``); when graphs are batched each row is shifted by its own node count.
    Batch with ``follow_batch=["x_con", "x_var"]`` to get ``x_con_batch``/``x_var_batch``.
    """

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "edge_index":
            return torch.tensor([[self.x_con.size(0)], [self.x_var.size(0)]])
        return super().__inc__(key, value, *args, **kwargs)

    @classmethod
    def from_graph(cls, graph: MIPGraph) -> BipartiteData:
        """Tensors of ``graph`` (shared memory with its arrays where the dtype allows)."""
        return cls(
            x_con=torch.from_numpy(graph.con_features),
            x_var=torch.from_numpy(graph.var_features),
            edge_index=torch.from_numpy(graph.edge_index),
            edge_weight=torch.from_numpy(graph.edge_weight),
            integer=torch.from_numpy(graph.integer),
            num_nodes=graph.num_cons + graph.num_vars,
        )
