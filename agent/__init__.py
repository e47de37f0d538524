"""AWS-identifier masking gateway: the SPOE agent that HAProxy asks to mask request bodies."""
