module enjailed/lab/sim

go 1.26
