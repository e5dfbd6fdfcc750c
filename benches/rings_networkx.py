"""networkx on the rings benchmark's file (benches/browser/run.mjs): the entity–value graph of
account × (device, ip, payment), values used by more than CAP accounts left out, and its
connected components. Prints JSON: read_s (pandas reads the CSV, not counted against Vigil),
graph_s, components_s, components (of two accounts or more), largest (accounts), version.

Usage: rings_networkx.py FILE.csv CAP
"""

import json
import sys
import time

import networkx as nx
import pandas as pd


def main():
    path, cap = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    t1 = time.perf_counter()
    graph = nx.Graph()
    graph.add_nodes_from(("e", a) for a in rows["account"].unique())
    for column in ["device", "ip", "payment"]:
        pairs = rows[["account", column]].drop_duplicates()
        users = pairs.groupby(column)["account"].transform("size")
        kept = pairs[users <= cap]
        graph.add_edges_from((("e", a), (column, v)) for a, v in zip(kept["account"], kept[column]))
    t2 = time.perf_counter()
    sizes = [sum(1 for node in c if node[0] == "e") for c in nx.connected_components(graph)]
    t3 = time.perf_counter()
    tied = [s for s in sizes if s >= 2]
    print(json.dumps({"read_s": t1 - t0, "graph_s": t2 - t1, "components_s": t3 - t2, "components": len(tied), "largest": max(tied, default=0), "version": nx.__version__}))


if __name__ == "__main__":
    main()
