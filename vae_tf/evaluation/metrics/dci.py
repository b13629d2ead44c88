"""DCI: disentanglement, completeness, informativeness (Eastwood &
Williams 2018, "A framework for the quantitative evaluation of
disentangled representations", ICLR).

One predictor per ground-truth factor reads the factor from all latent
dimensions; its feature importances fill the matrix R (codes x factors).

- disentanglement: each code's importances, normalised over factors, have
  entropy H (base: the number of factors); D_i = 1 - H. D is the mean of
  D_i weighted by each code's share of the total importance. 1: every code
  predicts one factor only.
- completeness: each factor's importances, normalised over codes, with
  entropy base the number of codes; C is the mean of 1 - H. 1: every
  factor is read from one code only.
- informativeness: how well the predictors do on held-out points:
  accuracy for class factors, R^2 for continuous ones (1 is perfect;
  chance is about 1 / classes, or 0).

The predictors are scikit-learn's gradient-boosted trees, as in
disentanglement_lib (`dci.py`), so the numbers compare with published
ones: classifiers for class factors (`is_discrete`), regressors for
continuous ones.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from vae_tf.evaluation.metrics.utils import check_codes_and_factors, \
    is_discrete


def dci(
    codes_train: np.ndarray, factors_train: np.ndarray,
    codes_test: np.ndarray, factors_test: np.ndarray,
    seed: int = 0, max_train: Optional[int] = 2000,
) -> dict[str, object]:
    """DCI scores of a code.

    Args:
        codes_train, factors_train: posterior means `(n, latent_dim)` and
            factors `(n, num_factors)` the predictors are fitted on.
        codes_test, factors_test: held-out points for informativeness.
        seed: seeds the trees' subsampling and the training subset.
        max_train: at most this many training points (a random subset;
            `None` for all): 2,000 points fit the 10 faces factors in
            about 10 s on 2 cores.

    Returns:
        `{"disentanglement", "completeness", "informativeness"}` floats
        in [0, 1], `"informativeness_per_factor"` and the
        `"importance"` matrix as nested lists `[latent_dim][num_factors]`.
    """
    codes_train, factors_train = check_codes_and_factors(
        codes_train, factors_train)
    codes_test, factors_test = check_codes_and_factors(
        codes_test, factors_test)
    if codes_train.shape[1] != codes_test.shape[1] or \
            factors_train.shape[1] != factors_test.shape[1]:
        raise ValueError(
            "Training and test widths differ: codes "
            f"{codes_train.shape[1]} vs {codes_test.shape[1]}, factors "
            f"{factors_train.shape[1]} vs {factors_test.shape[1]}."
        )
    rng = np.random.default_rng(seed)
    if max_train is not None and len(codes_train) > max_train:
        keep = rng.choice(len(codes_train), max_train, replace=False)
        codes_train, factors_train = codes_train[keep], factors_train[keep]
    importance, scores = _importance_matrix(
        codes_train, factors_train, codes_test, factors_test, seed)
    return {
        "disentanglement": disentanglement(importance),
        "completeness": completeness(importance),
        "informativeness": float(np.mean(scores)),
        "informativeness_per_factor": [float(s) for s in scores],
        "importance": importance.tolist(),
    }


def _importance_matrix(codes_train, factors_train, codes_test,
                       factors_test, seed: int):
    from sklearn.ensemble import (GradientBoostingClassifier,
                                  GradientBoostingRegressor)

    importance = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    scores = []
    for j in range(factors_train.shape[1]):
        y_train, y_test = factors_train[:, j], factors_test[:, j]
        if np.ptp(y_train) == 0:  # a constant factor: nothing to read
            scores.append(0.0)
            continue
        if is_discrete(np.concatenate([y_train, y_test])):
            model = GradientBoostingClassifier(random_state=seed)
            model.fit(codes_train, y_train.astype(np.int64))
            scores.append(float(np.mean(
                model.predict(codes_test) == y_test.astype(np.int64))))
        else:
            model = GradientBoostingRegressor(random_state=seed)
            model.fit(codes_train, y_train)
            scores.append(max(0.0, float(model.score(codes_test, y_test))))
        importance[:, j] = np.abs(model.feature_importances_)
    return importance, np.array(scores)


def _normalised_entropy(p: np.ndarray, axis: int, base: int) -> np.ndarray:
    """Entropy of the distributions along `axis`, in units of log(base)."""
    total = p.sum(axis=axis, keepdims=True)
    q = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, -q * np.log(q), 0.0)
    return terms.sum(axis=axis) / np.log(base)


def disentanglement(importance: np.ndarray) -> float:
    """D from an importance matrix `(num_codes, num_factors)`."""
    importance = np.abs(np.asarray(importance, np.float64))
    if importance.shape[1] < 2 or importance.sum() == 0:
        return 0.0
    per_code = 1.0 - _normalised_entropy(importance, 1, importance.shape[1])
    weights = importance.sum(axis=1) / importance.sum()
    return float(np.sum(weights * per_code))


def completeness(importance: np.ndarray) -> float:
    """C from an importance matrix `(num_codes, num_factors)`; factors no
    code predicts count 0."""
    importance = np.abs(np.asarray(importance, np.float64))
    if importance.shape[0] < 2:
        return 1.0
    per_factor = 1.0 - _normalised_entropy(importance, 0, importance.shape[0])
    per_factor[importance.sum(axis=0) == 0] = 0.0
    return float(per_factor.mean())
