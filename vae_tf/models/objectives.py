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
