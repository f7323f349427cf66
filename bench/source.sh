# bench/source.sh — the "source server" of bench/remote.sh and
# bench/remote-tree.sh: an sshd of the bench's own on 127.0.0.1, where
# bkp's key is forced to `bkp agent` and the pushers' key (restic, borg)
# is free. Sourced; the caller sets WORK and BKP and has written
# $WORK/agent.yaml. Sets PORT, HOST_KEY (the policy's host_key) and
# SSH_PUSH (restic's and borg's ssh command); stops sshd on exit.
start_source() {
    mkdir -p /run/sshd
    rm -f "$WORK/host_key" "$WORK/id_bkp" "$WORK/id_push"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/id_bkp"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/id_push"
    {
        echo "restrict,command=\"$BKP agent --config $WORK/agent.yaml\" $(cat "$WORK/id_bkp.pub")"
        cat "$WORK/id_push.pub"
    } >"$WORK/authorized_keys"
    PORT=$((30000 + RANDOM % 10000))
    cat >"$WORK/sshd_config" <<CONF
ListenAddress 127.0.0.1:$PORT
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
PidFile $WORK/sshd.pid
StrictModes no
UsePAM yes
PermitRootLogin prohibit-password
PasswordAuthentication no
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -f "$WORK/sshd_config" -E "$WORK/sshd.log"
    trap 'kill "$(cat "$WORK/sshd.pid")" 2>/dev/null || true' EXIT
    sleep 0.5
    SSH_PUSH="ssh -p $PORT -i $WORK/id_push -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    HOST_KEY=$(cut -d' ' -f1,2 "$WORK/host_key.pub")
}

# The policy's hosts: block for that source.
source_host() {
    cat <<YAML
hosts:
  - name: source
    ssh: root@127.0.0.1
    port: $PORT
    identity: $WORK/id_bkp
    host_key: "$HOST_KEY"
YAML
}
