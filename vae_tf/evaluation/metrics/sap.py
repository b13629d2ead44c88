"""SAP, the Separated Attribute Predictability score (Kumar et al. 2018,
"Variational inference of disentangled latent concepts from unlabeled
observations", ICLR, arXiv:1711.00848).

A score S[i, j] says how well latent dimension i alone predicts factor j:
for a continuous factor the R^2 of a linear regression on that one
dimension (its squared correlation); for a class factor the balanced
accuracy, on held-out points, of a threshold classifier on that one
dimension (classes - 1 thresholds, fitted as a decision tree with that
many splits, so a middle class is separable too). SAP is the mean over
factors of the gap between the best and the second-best dimension. High
when every factor is read from one dimension; 0 when two dimensions share
it or none has it.
(disentanglement_lib's `sap_score.py` uses a linear SVM instead, which in
one dimension cannot isolate a middle class: on a perfect code of a
3-class factor it scores 0.65, the thresholds 1.0.)
"""

from __future__ import annotations

import numpy as np

from vae_tf.evaluation.metrics.utils import check_codes_and_factors, \
    is_discrete


def separated_attribute_predictability(
    codes_train: np.ndarray, factors_train: np.ndarray,
    codes_test: np.ndarray, factors_test: np.ndarray,
) -> dict[str, object]:
    """SAP of a code.

    Args:
        codes_train, factors_train: `(n, latent_dim)` posterior means and
            `(n, num_factors)` factors: the classifiers' training points
            and the points of the continuous factors' R^2.
        codes_test, factors_test: held-out points scoring the
            classifiers.

    Returns:
        `{"sap": float, "sap_per_factor": list[float], "score_matrix":
        [latent_dim][num_factors] nested list}`.
    """
    codes_train, factors_train = check_codes_and_factors(
        codes_train, factors_train)
    codes_test, factors_test = check_codes_and_factors(
        codes_test, factors_test)
    if codes_train.shape[1] < 2:
        raise ValueError("SAP needs at least 2 latent dimensions.")
    scores = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    for j in range(factors_train.shape[1]):
        y_all = np.concatenate([factors_train[:, j], factors_test[:, j]])
        for i in range(codes_train.shape[1]):
            if is_discrete(y_all):
                scores[i, j] = _classification_score(
                    codes_train[:, i], factors_train[:, j],
                    codes_test[:, i], factors_test[:, j])
            else:
                scores[i, j] = _squared_correlation(
                    codes_train[:, i], factors_train[:, j])
    top = np.sort(scores, axis=0)[::-1]
    per_factor = top[0] - top[1]
    return {
        "sap": float(per_factor.mean()),
        "sap_per_factor": [float(v) for v in per_factor],
        "score_matrix": scores.tolist(),
    }


def _squared_correlation(code: np.ndarray, factor: np.ndarray) -> float:
    var_c, var_f = code.var(), factor.var()
    if var_c <= 1e-12 or var_f <= 1e-12:
        return 0.0
    cov = np.mean((code - code.mean()) * (factor - factor.mean()))
    return float(cov ** 2 / (var_c * var_f))


def _classification_score(code_train, y_train, code_test, y_test) -> float:
    from sklearn.tree import DecisionTreeClassifier

    y_train = y_train.astype(np.int64)
    y_test = y_test.astype(np.int64)
    classes = len(np.unique(y_train))
    if classes < 2 or code_train.std() <= 1e-12:
        return 0.0
    model = DecisionTreeClassifier(max_leaf_nodes=classes,
                                   class_weight="balanced", random_state=0)
    model.fit(code_train[:, None], y_train)
    return _balanced_accuracy(y_test, model.predict(code_test[:, None]))


def _balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over the classes present of the share predicted right."""
    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]
    return float(np.mean(recalls))
