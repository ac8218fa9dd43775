"""Learned branching for SCIP (issue 15, in progress): strong-branching expert samples.

- :mod:`.samples`: the candidate features, Python strong branching and the recording rule;
- :mod:`.collect`: one sample shard per instance over registered distributions (parallel
  processes or Dask, cached, resumable).

Nothing here imports torch.
"""
