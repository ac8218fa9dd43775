"""Learned branching for SCIP (issue 15, in progress): strong-branching expert samples.

- :mod:`.samples`: the candidate features, every variable's LP state at the node, Python
  strong branching and the recording rule;
- :mod:`.collect`: one sample shard per instance over registered distributions (parallel
  processes or Dask, cached, resumable);
- :mod:`.command`: ``hybridsolve train branching collect``.

Nothing here imports torch.
"""
