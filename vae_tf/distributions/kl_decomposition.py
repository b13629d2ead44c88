"""The KL term split three ways (Chen et al. 2018, "Isolating sources of
disentanglement in VAEs", arXiv:1802.04942, section 3):

    E_x KL(q(z|x) || p(z)) = I_q(x; z)                        index-code MI
                           + KL(q(z) || prod_j q(z_j))        total correlation
                           + sum_j KL(q(z_j) || p(z_j))       dimension-wise KL

q(z) and its marginals q(z_j) are mixtures over the whole training set;
within a minibatch they are estimated by minibatch stratified sampling
(MSS, the paper's appendix C.2): for the draw z_i of image i,

    q(z_i) ~= sum_m w_im q(z_i | x_m),   w_ii = 1/N, w_i,i+1 = (N - M)/(N M),
                                         w_im = 1/M otherwise,  M = B - 1

with N the training-set size and B the batch size. Each row's weights sum
to 1 and its expectation over batches drawn from the other N - 1 images is
the exact q(z_i). (The weight matrix is built with the indexing of the
corrected reference code, rtqichen/beta-tcvae pull request 1: the original
filled a column, not the diagonal.) All terms are nats per image, averaged
over the batch; per batch MI + TC + dimension-wise KL equals the one-sample
estimate mean_i [log q(z_i|x_i) - log p(z_i)] of the KL exactly.
"""

from __future__ import annotations

import math

import tensorflow as tf


def log_importance_weights(batch_size, dataset_size) -> tf.Tensor:
    """log w, the `(B, B)` MSS weight matrix above (B may be a tensor)."""
    b = tf.cast(batch_size, tf.int32)
    n = tf.cast(dataset_size, tf.float32)
    m = tf.cast(tf.maximum(b - 1, 1), tf.float32)
    eye = tf.eye(b)
    next_one = tf.roll(eye, shift=1, axis=1)  # row i: a 1 in column i + 1
    next_one = next_one * (1.0 - eye)  # B = 1: no neighbour but itself
    strat = (n - m) / (n * m)
    w = (eye / n + next_one * strat
         + (1.0 - eye - next_one) / m)
    return tf.math.log(w)


def pairwise_log_density(z, z_mean, z_log_var) -> tf.Tensor:
    """`[i, m, j]` = log N(z_ij; mean_mj, exp(log_var_mj)), `(B, B, K)`."""
    z, mu, lv = z[:, None, :], z_mean[None], z_log_var[None]
    return -0.5 * (math.log(2 * math.pi) + lv + tf.square(z - mu)
                   * tf.exp(-lv))


def kl_decomposition(z, z_mean, z_log_var, dataset_size):
    """`(mutual_information, total_correlation, dimension_kl)`, each a
    float32 scalar in nats per image, for a batch of draws `z` of
    q(z|x) = N(z_mean, exp(z_log_var)), all `(B, K)`.

    Args:
        dataset_size: N, the number of training images (>= B).
    """
    z = tf.cast(z, tf.float32)
    z_mean = tf.cast(z_mean, tf.float32)
    z_log_var = tf.cast(z_log_var, tf.float32)
    log_q = pairwise_log_density(z, z_mean, z_log_var)  # (B, B, K)
    log_w = log_importance_weights(tf.shape(z)[0], dataset_size)
    log_qz_x = tf.reduce_sum(tf.linalg.diag_part(
        tf.transpose(log_q, [2, 0, 1])), axis=0)  # (B,) log q(z_i|x_i)
    log_qz = tf.reduce_logsumexp(
        log_w + tf.reduce_sum(log_q, axis=2), axis=1)
    log_prod_qzj = tf.reduce_sum(tf.reduce_logsumexp(
        log_w[:, :, None] + log_q, axis=1), axis=1)
    log_pz = tf.reduce_sum(
        -0.5 * (math.log(2 * math.pi) + tf.square(z)), axis=1)
    return (tf.reduce_mean(log_qz_x - log_qz),
            tf.reduce_mean(log_qz - log_prod_qzj),
            tf.reduce_mean(log_prod_qzj - log_pz))
