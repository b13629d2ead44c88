"""The tiny conditional faces model the conditional tests share
(`conftest.conditional_run`): a binary class, a 4-class factor and a
continuous one."""

CONDITIONAL = {"input_shape": [32, 32, 3], "latent_dim": 4,
               "widths": [8, 16], "dense_units": 16, "num_examples": 320,
               "batch_size": 32, "epochs": 2}
CONDITION = "glasses,hair_color,smile"
