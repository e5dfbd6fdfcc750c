"""Rings from shared attributes with networkx, for tests/it/reference_rings.rs.

usage: rings_reference.py CSV ENTITY CAP RESOLUTION ATTRIBUTE...

The entity–value graph of the CSV (values used by more than CAP distinct entities left out),
its connected components (entity names of those with two entities or more), and for the largest
component networkx's Louvain communities (the best of five seeds) with their modularity at
RESOLUTION. Prints JSON.
"""
import json
import sys

import networkx as nx
import pandas as pd

path, entity, cap, resolution = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
attributes = sys.argv[5:]
frame = pd.read_csv(path, dtype=str, keep_default_na=False)
graph = nx.Graph()
for attribute in attributes:
    pairs = frame[[entity, attribute]]
    pairs = pairs[(pairs[entity] != "") & (pairs[attribute] != "")].drop_duplicates()
    users = pairs.groupby(attribute)[entity].nunique()
    kept = pairs[pairs[attribute].map(users) <= cap]
    for e, v in zip(kept[entity], kept[attribute]):
        graph.add_edge(("e", e), ("v", attribute, v))
components = []
for nodes in nx.connected_components(graph):
    names = sorted(n[1] for n in nodes if n[0] == "e")
    if len(names) >= 2:
        components.append(names)
components.sort(key=lambda c: (-len(c), c[0]))
largest = graph.subgraph(max(nx.connected_components(graph), key=len)).copy()
best = None
for seed in range(5):
    communities = nx.community.louvain_communities(largest, resolution=resolution, seed=seed)
    q = nx.community.modularity(largest, communities, resolution=resolution)
    if best is None or q > best[0]:
        best = (q, len(communities))
print(json.dumps({
    "components": components,
    "largest_entities": sum(1 for n in largest if n[0] == "e"),
    "modularity": best[0],
    "communities": best[1],
}))
