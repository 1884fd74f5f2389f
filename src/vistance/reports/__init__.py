"""Reports a person reads: the evaluation report (:mod:`.evaluation`), run comparisons (:mod:`.comparison`), model
cards (:mod:`.modelcard`) and the actor report (:mod:`.actors`). Each fills a Jinja2 template from
``vistance/resources/templates`` (:mod:`.templates`); numbers are written by :mod:`.format` and the shared figures
drawn by :mod:`.plots`."""
