"""The regularizers a VAE can be trained with (TensorFlow-free names, so
`VAEConfig` and the `vae-tf` parser read them without loading Keras).

- `vae`: beta * KL(q(z|x) || N(0, I)), the `KLDivergence` layer (beta = 1
  is the ELBO, beta > 1 the beta-VAE of Higgins et al. 2017);
- `beta-tcvae`: the KL split into index-code mutual information, total
  correlation and dimension-wise KL, the total correlation weighted by
  `tc_weight` (Chen et al. 2018), the `TotalCorrelation` layer. The
  `KLDivergence` layer stays in the graph with beta = 0, so the history's
  `kl` is still the analytic KL.
"""

OBJECTIVES = ("vae", "beta-tcvae")


def check_objective(objective: str, tc_weight: float, beta: float,
                    beta_schedule: str, free_bits: float) -> None:
    """Raises `ValueError` naming the first setting `objective` cannot
    take (the KL weights beta-TCVAE sets itself, a negative TC weight)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"Unknown objective {objective!r}. Choose one of: "
                         f"{', '.join(OBJECTIVES)}")
    if isinstance(tc_weight, bool) or not isinstance(
            tc_weight, (int, float)) or not tc_weight >= 0 or \
            tc_weight == float("inf"):
        raise ValueError("Expected `tc_weight` to be a number >= 0. "
                         f"Received: tc_weight={tc_weight}")
    if objective != "beta-tcvae":
        return
    for name, value, default in (("beta", beta, 1.0),
                                 ("beta_schedule", beta_schedule, "constant"),
                                 ("free_bits", free_bits, 0.0)):
        if value != default:
            raise ValueError(
                f"objective='beta-tcvae' weighs the KL's parts itself: "
                f"set {name}={default!r} (received {name}={value!r}) "
                "and weigh the total correlation with `tc_weight`.")
