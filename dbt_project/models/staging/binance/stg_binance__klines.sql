{{ stg_candles('binance_klines') }}
