-- Store a request's metric data points. In: `incoming_points`.
INSERT INTO metric_points BY NAME SELECT * FROM incoming_points
