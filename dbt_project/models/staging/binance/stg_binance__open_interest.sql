{{ stg_open_interest('binance_open_interest') }}
