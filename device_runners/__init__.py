"""Device runners: latency, memory, battery and size of exported models on host, Android and iOS."""
