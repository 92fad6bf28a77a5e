"""Contraception and family benefits: WHO MEC eligibility as data with a pure engine
(eligibility.py), IUD follow-up and removal windows, and leave and childcare-subsidy rules
(benefits.py). No database or HTTP here yet: the domain's service and routes wire these in.
"""
