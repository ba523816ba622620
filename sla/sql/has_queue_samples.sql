-- Has any queue sample arrived? Queue SLAs are skipped until a poller or producer sends one.
SELECT EXISTS (SELECT 1 FROM queue_samples)
