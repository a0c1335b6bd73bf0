"""Settings the optimisation's tests share."""

#: The network's first two blocks: every mechanism of a run, at a fifth of the whole network's cost.
SHALLOW = {"content_layers": ("conv2_2",), "style_layers": ("conv1_1", "conv2_1"), "final_only_style_layers": (),
           "salient_quantile": 1.0, "subject_weight": 1.0}
