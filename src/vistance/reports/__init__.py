"""Reports a person reads: shared HTML/Markdown pieces (:mod:`.html`), the evaluation report
(:mod:`.evaluation`), run comparisons (:mod:`.comparison`) and model cards (:mod:`.modelcard`)."""
