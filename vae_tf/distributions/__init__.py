"""The model's distributions, as math (nats):

- `gaussian`: the diagonal Gaussian posterior q(z|x): reparametrized
  draw, log-density, analytic KL from N(0, I) (`tfp.distributions`);
- `likelihoods`: the decoder's p(x|z) (`LIKELIHOODS`: bernoulli,
  gaussian, laplace) as negative log-likelihoods per image.

The Keras layers, losses and metrics are built on these. Nothing is
imported here: `likelihoods.LIKELIHOODS` loads without TensorFlow.
"""
