# QEMU lab: seed 002's shape (heartbeat v1 + DRBD + Apache) on the lab nodes. The seed's ha.cf timers
# are shortened for the lab (seed: keepalive 2, deadtime 60, warntime 30, initdead 120): a takeover is
# measured in seconds, not minutes. The VIP lives on the replication network (eth1), heartbeat's
# medium is unicast on that same link (the lab has no dedicated HA NIC).
hapair:
  topologies:
    lab_apache:
      nodes:
        node1:
          minion_id: node1
          address: 10.99.0.1
        node2:
          minion_id: node2
          address: 10.99.0.2
      drbd:
        dialect: auto
        global:
          usage-count: "no"
        resources:
          r0:
            minor: 0
            port: 7788
            disk: /dev/vdb
            meta_disk: internal
            protocol: C
            mode: single-primary
            primary: node1
            initial_sync: full
      filesystems:
        data:
          resource: r0
          type: ext4
          mountpoint: /drbd
          mount_on: []
      groups:
        www:
          node: node1
          resource: r0
          filesystem: data
          ip:
            address: 10.99.0.100
            cidr: 24
            interface: eth1
          relocate: [/etc/apache2, /var/www]
          services: [apache2]
          canary:                       # the bootstrap's last step: written where www runs, read through the VIP
            file: /var/www/html/hapair-canary.txt
            url_path: /hapair-canary.txt
      cluster:
        stack: heartbeat
        name: labha
        heartbeat:
          keepalive: 1
          deadtime: 10
          warntime: 5
          initdead: 30
          udpport: 694
          auto_failback: "off"
          logfacility: daemon
          media:
            - type: ucast
              interface: eth1
          authkeys:                     # no key: the master's ext_pillar hapair_secrets generates one
            method: sha1                # per pair, once (lab/master.py: ext_pillar)
