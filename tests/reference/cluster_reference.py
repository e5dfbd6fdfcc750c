"""scikit-learn's clusterings of its bundled datasets, for tests/reference_cluster.rs.

Prints JSON: per dataset the standardised features (both sides cluster exactly these), the
true classes, and scikit-learn's k-means (inertia, ARI), Gaussian mixture (ARI) and DBSCAN
(labels, ARI) with the settings the Rust test uses; and k-means and DBSCAN again with
`sample_weight`, whole (1 + row mod 3) and fractional (0.5 + (row mod 4) / 2). And the
silhouette of the true classes, of the true classes with the first point a cluster of its own
(a singleton scores 0), and of DBSCAN's clusters without its noise.
"""
import json
import sys

import numpy as np
from sklearn.cluster import DBSCAN, KMeans
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

# (name, loader, k, DBSCAN eps, DBSCAN min_samples)
DATASETS = [
    ("iris", load_iris, 3, 0.8, 5),
    ("wine", load_wine, 3, 2.3, 5),
    ("breast_cancer", load_breast_cancer, 2, 3.0, 8),
]

out = {}
for name, loader, k, eps, min_samples in DATASETS:
    data = loader()
    x = StandardScaler().fit_transform(data.data)
    x = np.round(x, 10)  # what the CSV carries
    y = data.target.tolist()
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
    gmm = GaussianMixture(n_components=k, covariance_type="full", n_init=5, random_state=0).fit(x)
    db = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
    out[name] = {
        "x": x.tolist(),
        "y": y,
        "k": k,
        "eps": eps,
        "min_samples": min_samples,
        "kmeans": {"inertia": float(km.inertia_), "ari": adjusted_rand_score(y, km.labels_)},
        "gmm": {"ari": adjusted_rand_score(y, gmm.predict(x))},
        "dbscan": {"labels": db.labels_.tolist(), "ari": adjusted_rand_score(y, db.labels_)},
        "weighted": {},
        "silhouette": {
            "classes": float(silhouette_score(x, y)),
            "singleton": float(silhouette_score(x, [99] + y[1:])),
            # (None when DBSCAN found one cluster: a silhouette needs two.)
            "dbscan": float(silhouette_score(x[db.labels_ != -1], db.labels_[db.labels_ != -1])) if len(set(db.labels_) - {-1}) > 1 else None,
        },
    }
    for kind, weights in [("whole", [1.0 + i % 3 for i in range(len(y))]), ("fractional", [0.5 + (i % 4) / 2 for i in range(len(y))])]:
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x, sample_weight=weights)
        db = DBSCAN(eps=eps, min_samples=min_samples).fit(x, sample_weight=weights)
        out[name]["weighted"][kind] = {
            "weights": weights,
            "kmeans": {"inertia": float(km.inertia_), "ari": adjusted_rand_score(y, km.labels_)},
            "dbscan": {"labels": db.labels_.tolist()},
        }
json.dump(out, sys.stdout)
