"""scikit-learn's DecisionTreeClassifier on breast_cancer, for tests/reference_tree.rs: the
data, a seeded 70/30 split both sides use, and the held-out accuracy per depth; and again with
frequency weights 1 + (row mod 4) in the fit and the score. Prints JSON."""
import json
import sys

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

data = load_breast_cancer()
idx = list(range(len(data.target)))
train, test = train_test_split(idx, test_size=0.3, random_state=0, stratify=data.target)
accuracy = {}
for depth in [1, 2, 3, 4, 5]:
    model = DecisionTreeClassifier(max_depth=depth, criterion="gini", random_state=0)
    model.fit(data.data[train], data.target[train])
    accuracy[depth] = float(model.score(data.data[test], data.target[test]))
weights = [1.0 + (i % 4) for i in idx]
weighted = {}
for depth in [1, 2, 3, 4, 5]:
    model = DecisionTreeClassifier(max_depth=depth, criterion="gini", random_state=0)
    model.fit(data.data[train], data.target[train], sample_weight=[weights[i] for i in train])
    weighted[depth] = float(model.score(data.data[test], data.target[test], sample_weight=[weights[i] for i in test]))
json.dump({"x": data.data.tolist(), "y": data.target.tolist(), "train": train, "test": test, "accuracy": accuracy, "weights": weights, "weighted_accuracy": weighted}, sys.stdout)
