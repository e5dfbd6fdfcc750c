"""Near-duplicate texts the reference way, for tests/it/reference_copies.rs.

Usage: copies_reference.py TEXTS.json PAIRS.json K THRESHOLD PERMUTATIONS

TEXTS.json is a list of texts; PAIRS.json a list of [i, j] index pairs. Texts are normalised as
Vigil does (lower case, runs of white space as one space) and cut into K-character shingles (the
whole text when shorter). Prints JSON:
  exact:      the exact Jaccard similarity of each pair's shingle sets (Python sets of strings)
  datasketch: datasketch's MinHash estimate of each pair (PERMUTATIONS permutations, seed 1)
  components: by brute force over every pair of distinct normalised texts, the connected
              components of "Jaccard ≥ THRESHOLD" with at least two texts (sorted lists)
  bands:      datasketch's LSH banding (b, r) for THRESHOLD and PERMUTATIONS
"""

import json
import sys

import networkx as nx
from datasketch import MinHash
from datasketch.lsh import _optimal_param


def normalise(text):
    return " ".join(text.lower().split())


def shingles(text, k):
    if len(text) <= k:
        return {text}
    return {text[i : i + k] for i in range(len(text) - k + 1)}


def jaccard(a, b):
    union = len(a | b)
    return 1.0 if union == 0 else len(a & b) / union


def main():
    texts = json.load(open(sys.argv[1]))
    pairs = json.load(open(sys.argv[2]))
    k, threshold, permutations = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    sets = [shingles(normalise(t), k) for t in texts]

    def minhash(s):
        m = MinHash(num_perm=permutations, seed=1)
        for sh in s:
            m.update(sh.encode("utf8"))
        return m

    exact = [jaccard(sets[i], sets[j]) for i, j in pairs]
    estimates = [minhash(sets[i]).jaccard(minhash(sets[j])) for i, j in pairs]

    docs = sorted({normalise(t) for t in texts if normalise(t)})
    doc_sets = [shingles(d, k) for d in docs]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(docs)))
    for a in range(len(docs)):
        sa = doc_sets[a]
        for b in range(a + 1, len(docs)):
            if jaccard(sa, doc_sets[b]) >= threshold:
                graph.add_edge(a, b)
    components = sorted(sorted(docs[i] for i in c) for c in nx.connected_components(graph) if len(c) >= 2)
    bands = _optimal_param(threshold, permutations, 0.5, 0.5)
    print(json.dumps({"exact": exact, "datasketch": estimates, "components": components, "bands": list(bands)}))


if __name__ == "__main__":
    main()
