"""The optimisation engine (Gatys et al.): the picture's pixels optimised against VGG-19 features.

``config`` holds every default (`StyleConfig`); ``transfer`` is the entry point (`transfer_style`,
`stylize`); ``objective`` the loss, ``loop`` the L-BFGS/Adam loop, ``tiling`` the tiles of large
levels, ``masks`` the regions, ``checkpoint`` resume, ``memory`` the estimate that refuses runs
that cannot fit, ``validation`` the checks made before the first iteration.
"""
