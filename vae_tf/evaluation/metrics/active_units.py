"""Active units (Burda et al. 2016, arXiv:1509.00519, section 5.2).

Latent dimension u is active when A_u = Cov_x(E_q(z|x)[z_u]) exceeds a
threshold (0.01): the posterior mean moves with the input. Inactive
dimensions have collapsed to the prior.
"""

from __future__ import annotations

import numpy as np


def active_units(z_mean: np.ndarray,
                 threshold: float = 0.01) -> dict[str, object]:
    """Counts active latent dimensions.

    Args:
        z_mean: posterior means over a data set, `(num_points, latent_dim)`.
        threshold: minimum variance of an active dimension.

    Returns:
        `{"active_units": int, "activity": list[float]}` (A_u per dim).
    """
    z_mean = np.asarray(z_mean, np.float64)
    if z_mean.ndim != 2 or len(z_mean) < 2:
        raise ValueError(
            "Expected posterior means of shape (num_points >= 2, latent_dim). "
            f"Received: {z_mean.shape}"
        )
    activity = z_mean.var(axis=0)
    return {
        "active_units": int((activity > threshold).sum()),
        "activity": [float(a) for a in activity],
    }
