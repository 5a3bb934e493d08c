{{ stg_open_interest('gate_open_interest') }}
