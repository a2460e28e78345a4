{#- Stop heartbeat; its rendered files are left in place for inspection (remove by hand). -#}

hapair-heartbeat-service-dead:
  service.dead:
    - name: heartbeat
    - enable: false
