// Command vcsim serves a vCenter simulator (govmomi's simulator library) whose
// inventory is built from a JSON topology: datacenters, clusters with DRS/HA
// settings, Dell hosts with their service tags, and VMs per host.
//
// The topology is produced by simulators/vcsim/topology.py from the fleet file,
// so the vCenter and iDRAC simulators describe the same datacenter.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/vpx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type vmSpec struct {
	Name           string `json:"name"`
	CPUs           int32  `json:"cpus"`
	MemoryMB       int64  `json:"memory_mb"`
	PoweredOn      bool   `json:"powered_on"`
	CPUReservation int32  `json:"cpu_reservation_mhz"`
	MemReservation int32  `json:"memory_reservation_mb"`
	LocalStorage   bool   `json:"local_storage"`
	PinnedToHost   bool   `json:"pinned_to_host"`
	Passthrough    bool   `json:"passthrough"`
}

type hostSpec struct {
	Name       string   `json:"name"`
	Vendor     string   `json:"vendor"`
	Model      string   `json:"model"`
	ServiceTag string   `json:"service_tag"`
	CPUCores   int16    `json:"cpu_cores"`
	CPUMhz     int32    `json:"cpu_mhz"`
	MemoryMB   int64    `json:"memory_mb"`
	MgmtIP     string   `json:"management_ip"`
	VMs        []vmSpec `json:"vms"`
}

type haSpec struct {
	Enabled            bool   `json:"enabled"`
	AdmissionControl   string `json:"admission_control"` // none | failover_hosts | failover_level | percentage
	FailoverHosts      int    `json:"failover_hosts"`
	FailoverLevel      int32  `json:"failover_level"`
	CPUFailoverPercent int32  `json:"cpu_failover_percent"`
	MemFailoverPercent int32  `json:"memory_failover_percent"`
}

type drsSpec struct {
	Enabled    bool   `json:"enabled"`
	Automation string `json:"automation"` // manual | partiallyAutomated | fullyAutomated
}

type clusterSpec struct {
	Name  string     `json:"name"`
	DRS   drsSpec    `json:"drs"`
	HA    haSpec     `json:"ha"`
	Hosts []hostSpec `json:"hosts"`
}

type datacenterSpec struct {
	Name     string        `json:"name"`
	Clusters []clusterSpec `json:"clusters"`
}

type topology struct {
	Username    string           `json:"username"`
	Password    string           `json:"password"`
	Datacenters []datacenterSpec `json:"datacenters"`
}

func main() {
	topologyPath := flag.String("topology", "", "JSON topology file (required)")
	listen := flag.String("listen", "127.0.0.1:8989", "loopback host:port to serve on")
	certFile := flag.String("tls-cert", "", "PEM certificate (default: the library's built-in localhost certificate)")
	keyFile := flag.String("tls-key", "", "PEM private key for -tls-cert")
	control := flag.String("control", "", "loopback host:port of the control endpoint (port 0: any free port)")
	flag.Parse()

	topo, err := readTopology(*topologyPath)
	if err != nil {
		log.Fatalf("vcsim: %v", err)
	}

	model := simulator.VPX()
	model.Datacenter = 0
	model.Host = 0
	model.Cluster = 0
	model.ClusterHost = 0
	model.Machine = 0
	model.Datastore = 0
	model.Portgroup = 0
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: create model: %v", err)
	}
	defer model.Remove()

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(topo.Username, topo.Password)}
	model.Service.TLS = new(tls.Config)
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			log.Fatalf("vcsim: load TLS certificate: %v", err)
		}
		model.Service.TLS.Certificates = []tls.Certificate{cert}
	}
	server := model.Service.NewServer()
	defer server.Close()

	defer removeTempDirs()
	if err := build(context.Background(), server.URL, topo); err != nil {
		removeTempDirs()
		log.Fatalf("vcsim: build topology: %v", err)
	}

	simulator.Map.AddHandler(state)
	simulator.Map.Put(&provisioningChecker{mo.VirtualMachineProvisioningChecker{
		Self: *vpx.ServiceContent.VmProvisioningChecker,
	}})
	if *control != "" {
		addr, err := serveControl(*control)
		if err != nil {
			log.Fatalf("vcsim: control endpoint: %v", err)
		}
		fmt.Printf("CONTROL %s\n", addr)
	}

	// The harness waits for this line before it talks to the simulator.
	fmt.Printf("READY %s\n", server.URL.Host)
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}

func readTopology(path string) (*topology, error) {
	if path == "" {
		return nil, fmt.Errorf("-topology is required")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	topo := new(topology)
	if err := json.Unmarshal(data, topo); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if topo.Username == "" || topo.Password == "" {
		return nil, fmt.Errorf("%s: username and password are required", path)
	}
	return topo, nil
}

// build creates the inventory through the vSphere API itself, then sets in process
// what the API cannot (hardware identity, HA admission control).
func build(ctx context.Context, u *url.URL, topo *topology) error {
	client, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return err
	}
	defer client.Logout(ctx)
	root := object.NewRootFolder(client.Client)

	for _, dcSpec := range topo.Datacenters {
		dc, err := root.CreateDatacenter(ctx, dcSpec.Name)
		if err != nil {
			return fmt.Errorf("datacenter %s: %v", dcSpec.Name, err)
		}
		folders, err := dc.Folders(ctx)
		if err != nil {
			return err
		}
		for _, clSpec := range dcSpec.Clusters {
			if err := buildCluster(ctx, folders, clSpec); err != nil {
				return fmt.Errorf("cluster %s: %v", clSpec.Name, err)
			}
		}
	}
	return nil
}

func buildCluster(ctx context.Context, folders *object.DatacenterFolders, spec clusterSpec) error {
	cluster, err := folders.HostFolder.CreateCluster(ctx, spec.Name, types.ClusterConfigSpecEx{})
	if err != nil {
		return err
	}
	state.clusterByName[spec.Name] = cluster.Reference()
	var hostRefs []types.ManagedObjectReference
	var hosts []*object.HostSystem
	for _, hSpec := range spec.Hosts {
		task, err := cluster.AddHost(ctx, types.HostConnectSpec{HostName: hSpec.Name, Force: true}, true, nil, nil)
		if err != nil {
			return err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return fmt.Errorf("host %s: %v", hSpec.Name, err)
		}
		ref := info.Result.(types.ManagedObjectReference)
		hostRefs = append(hostRefs, ref)
		hosts = append(hosts, object.NewHostSystem(cluster.Client(), ref))
		setHardware(ref, hSpec)
		state.hostByTag[hSpec.ServiceTag] = ref
	}
	datastore := spec.Name + "-ds"
	if err := createDatastore(ctx, datastore, hosts); err != nil {
		return fmt.Errorf("datastore %s: %v", datastore, err)
	}
	var pins []pin
	for i, hSpec := range spec.Hosts {
		pinned, err := buildVMs(ctx, folders, hosts[i], datastore, hSpec)
		if err != nil {
			return fmt.Errorf("host %s: %v", hSpec.Name, err)
		}
		pins = append(pins, pinned...)
	}
	setClusterConfig(cluster.Reference(), spec, hostRefs)
	setPinRules(cluster.Reference(), pins)
	return nil
}

// tempDirs back the simulated datastores; they are removed when the simulator exits.
var tempDirs []string

// createDatastore mounts one datastore on the given hosts: every host of a cluster
// for shared storage (VMs can move), or a single host for local storage (they cannot).
func createDatastore(ctx context.Context, name string, hosts []*object.HostSystem) error {
	dir, err := os.MkdirTemp("", "vcsim-"+name+"-")
	if err != nil {
		return err
	}
	tempDirs = append(tempDirs, dir)
	var mounts []types.DatastoreHostMount
	var ds *object.Datastore
	for _, host := range hosts {
		dss, err := host.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return err
		}
		if ds, err = dss.CreateLocalDatastore(ctx, name, dir); err != nil {
			return err
		}
		mounts = append(mounts, types.DatastoreHostMount{
			Key: host.Reference(),
			MountInfo: types.HostMountInfo{
				AccessMode: string(types.HostMountModeReadWrite),
				Mounted:    types.NewBool(true),
				Accessible: types.NewBool(true),
			},
		})
	}
	// Every host's create replaces the one datastore object (same path, same moref),
	// leaving only the last host's mount; record all of them.
	obj := simulator.Map.Get(ds.Reference()).(*simulator.Datastore)
	simulator.Map.WithLock(obj, func() { obj.Host = mounts })
	return nil
}

func setHardware(ref types.ManagedObjectReference, spec hostSpec) {
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	simulator.Map.WithLock(host, func() {
		info := &host.Hardware.SystemInfo
		info.Vendor = spec.Vendor
		info.Model = spec.Model
		info.SerialNumber = spec.ServiceTag
		if spec.MgmtIP != "" && len(host.Config.Network.Vnic) > 0 {
			host.Config.Network.Vnic[0].Spec.Ip.IpAddress = spec.MgmtIP
		}
		info.OtherIdentifyingInfo = []types.HostSystemIdentificationInfo{
			{
				IdentifierValue: spec.ServiceTag,
				IdentifierType: &types.ElementDescription{
					Description: types.Description{Label: "Service tag", Summary: "Service tag of the system"},
					Key:         "ServiceTag",
				},
			},
		}
		hw := host.Summary.Hardware
		hw.Vendor = spec.Vendor
		hw.Model = spec.Model
		if spec.CPUCores > 0 {
			hw.NumCpuCores = spec.CPUCores
			hw.NumCpuThreads = spec.CPUCores * 2
			host.Hardware.CpuInfo.NumCpuCores = spec.CPUCores
		}
		if spec.CPUMhz > 0 {
			hw.CpuMhz = spec.CPUMhz
		}
		if spec.MemoryMB > 0 {
			hw.MemorySize = spec.MemoryMB * 1024 * 1024
			host.Hardware.MemorySize = hw.MemorySize
		}
	})
}

// pin is a VM that a mandatory VM-host affinity rule keeps on its host.
type pin struct {
	vm, host types.ManagedObjectReference
	name     string
}

func buildVMs(ctx context.Context, folders *object.DatacenterFolders, host *object.HostSystem, datastore string, spec hostSpec) ([]pin, error) {
	if len(spec.VMs) == 0 {
		return nil, nil
	}
	pool, err := host.ResourcePool(ctx)
	if err != nil {
		return nil, err
	}
	var pins []pin
	for _, vmSpec := range spec.VMs {
		where := datastore
		if vmSpec.LocalStorage {
			if where, err = localDatastore(ctx, host, spec.Name); err != nil {
				return nil, err
			}
		}
		ref, err := createVM(ctx, folders, pool, host, where, vmSpec)
		if err != nil {
			return nil, fmt.Errorf("vm %s: %v", vmSpec.Name, err)
		}
		state.vmByName[vmSpec.Name] = ref
		setVMExtras(ref, vmSpec)
		if vmSpec.PinnedToHost {
			pins = append(pins, pin{vm: ref, host: host.Reference(), name: vmSpec.Name})
		}
	}
	return pins, nil
}

// localDatastore returns the name of the host's own datastore, creating it once.
func localDatastore(ctx context.Context, host *object.HostSystem, hostName string) (string, error) {
	name := hostName + "-local"
	if state.localDatastores[name] {
		return name, nil
	}
	if err := createDatastore(ctx, name, []*object.HostSystem{host}); err != nil {
		return "", fmt.Errorf("datastore %s: %v", name, err)
	}
	state.localDatastores[name] = true
	return name, nil
}

func createVM(ctx context.Context, folders *object.DatacenterFolders, pool *object.ResourcePool, host *object.HostSystem, datastore string, spec vmSpec) (types.ManagedObjectReference, error) {
	config := types.VirtualMachineConfigSpec{
		Name:     spec.Name,
		GuestId:  string(types.VirtualMachineGuestOsIdentifierOtherGuest),
		NumCPUs:  spec.CPUs,
		MemoryMB: spec.MemoryMB,
		Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + datastore + "]"},
	}
	task, err := folders.VmFolder.CreateVM(ctx, config, pool, host)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	ref := info.Result.(types.ManagedObjectReference)
	if spec.PoweredOn {
		vm := object.NewVirtualMachine(host.Client(), ref)
		ptask, err := vm.PowerOn(ctx)
		if err != nil {
			return ref, err
		}
		if err := ptask.Wait(ctx); err != nil {
			return ref, fmt.Errorf("power on: %v", err)
		}
	}
	return ref, nil
}

// setVMExtras stores in process what vcsim 0.24 does not keep from a config spec:
// reservations (summary.config) and a PCI passthrough device.
func setVMExtras(ref types.ManagedObjectReference, spec vmSpec) {
	vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	simulator.Map.WithLock(vm, func() {
		vm.Summary.Config.CpuReservation = spec.CPUReservation
		vm.Summary.Config.MemoryReservation = spec.MemReservation
		if spec.Passthrough {
			vm.Config.Hardware.Device = append(vm.Config.Hardware.Device, &types.VirtualPCIPassthrough{
				VirtualDevice: types.VirtualDevice{
					Key:        13000,
					DeviceInfo: &types.Description{Label: "PCI device 0", Summary: "GPU passthrough"},
				},
			})
		}
	})
}

// setPinRules adds one mandatory VM-host affinity rule per pinned VM.
func setPinRules(ref types.ManagedObjectReference, pins []pin) {
	if len(pins) == 0 {
		return
	}
	cluster := simulator.Map.Get(ref).(*simulator.ClusterComputeResource)
	simulator.Map.WithLock(cluster, func() {
		cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
		for i, p := range pins {
			vmGroup, hostGroup := "pin-"+p.name+"-vm", "pin-"+p.name+"-host"
			cfg.Group = append(cfg.Group,
				&types.ClusterVmGroup{ClusterGroupInfo: types.ClusterGroupInfo{Name: vmGroup}, Vm: []types.ManagedObjectReference{p.vm}},
				&types.ClusterHostGroup{ClusterGroupInfo: types.ClusterGroupInfo{Name: hostGroup}, Host: []types.ManagedObjectReference{p.host}},
			)
			cfg.Rule = append(cfg.Rule, &types.ClusterVmHostRuleInfo{
				ClusterRuleInfo: types.ClusterRuleInfo{
					Key: int32(i + 1), Name: "pin-" + p.name,
					Enabled: types.NewBool(true), Mandatory: types.NewBool(true),
				},
				VmGroupName:         vmGroup,
				AffineHostGroupName: hostGroup,
			})
		}
	})
}

// setClusterConfig stores DRS and HA settings in process: vcsim 0.24 accepts but
// does not keep them when they arrive through ReconfigureComputeResource_Task.
func setClusterConfig(ref types.ManagedObjectReference, spec clusterSpec, hosts []types.ManagedObjectReference) {
	cluster := simulator.Map.Get(ref).(*simulator.ClusterComputeResource)
	simulator.Map.WithLock(cluster, func() {
		cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
		automation := spec.DRS.Automation
		if automation == "" {
			automation = string(types.DrsBehaviorFullyAutomated)
		}
		cfg.DrsConfig = types.ClusterDrsConfigInfo{
			Enabled:           types.NewBool(spec.DRS.Enabled),
			DefaultVmBehavior: types.DrsBehavior(automation),
		}
		das := types.ClusterDasConfigInfo{
			Enabled:                 types.NewBool(spec.HA.Enabled),
			AdmissionControlEnabled: types.NewBool(spec.HA.Enabled && spec.HA.AdmissionControl != "" && spec.HA.AdmissionControl != "none"),
		}
		switch spec.HA.AdmissionControl {
		case "failover_hosts":
			n := spec.HA.FailoverHosts
			if n > len(hosts) {
				n = len(hosts)
			}
			das.AdmissionControlPolicy = &types.ClusterFailoverHostAdmissionControlPolicy{
				FailoverHosts: hosts[len(hosts)-n:],
				FailoverLevel: int32(n),
			}
		case "failover_level":
			das.AdmissionControlPolicy = &types.ClusterFailoverLevelAdmissionControlPolicy{FailoverLevel: spec.HA.FailoverLevel}
		case "percentage":
			das.AdmissionControlPolicy = &types.ClusterFailoverResourcesAdmissionControlPolicy{
				CpuFailoverResourcesPercent:    spec.HA.CPUFailoverPercent,
				MemoryFailoverResourcesPercent: spec.HA.MemFailoverPercent,
			}
		}
		cfg.DasConfig = das
	})
}

func removeTempDirs() {
	for _, dir := range tempDirs {
		os.RemoveAll(dir)
	}
}

// sim is what this harness adds to vcsim 0.24 at run time: fault injection, the
// asynchronous maintenance-mode task with DRS-style evacuation, and faithful
// VM relocation. It watches task state changes through a Registry handler.
type sim struct {
	mu              sync.Mutex
	hostByTag       map[string]types.ManagedObjectReference
	vmByName        map[string]types.ManagedObjectReference
	clusterByName   map[string]types.ManagedObjectReference
	localDatastores map[string]bool
	failTask        map[types.ManagedObjectReference]string // host -> task name that fails
	stuck           map[types.ManagedObjectReference]bool   // host never finishes entering maintenance
	refuse          map[types.ManagedObjectReference]bool   // VM refuses to migrate
	pending         map[types.ManagedObjectReference]types.ManagedObjectReference
}

var state = &sim{
	hostByTag:       map[string]types.ManagedObjectReference{},
	vmByName:        map[string]types.ManagedObjectReference{},
	clusterByName:   map[string]types.ManagedObjectReference{},
	localDatastores: map[string]bool{},
	failTask:        map[types.ManagedObjectReference]string{},
	stuck:           map[types.ManagedObjectReference]bool{},
	refuse:          map[types.ManagedObjectReference]bool{},
	pending:         map[types.ManagedObjectReference]types.ManagedObjectReference{},
}

const (
	enterMaintenance = "enterMaintenanceMode"
	exitMaintenance  = "exitMaintenanceMode"
)

func (s *sim) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "IdracOrchHarness", Value: "harness"}
}

func (s *sim) PutObject(mo.Reference) {}

func (s *sim) RemoveObject(types.ManagedObjectReference) {}

// UpdateObject sees every task go running (so the harness can replace what the task
// does) and go successful (so a maintenance task can keep running asynchronously).
func (s *sim) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	info, ok := obj.(*mo.Task)
	if !ok {
		return
	}
	for _, change := range changes {
		if change.Name != "info.state" {
			continue
		}
		switch change.Val {
		case types.TaskInfoStateRunning:
			s.onTaskStart(info.Self)
		case types.TaskInfoStateSuccess:
			s.onTaskSuccess(info.Self)
		}
	}
}

func (s *sim) onTaskStart(ref types.ManagedObjectReference) {
	task, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok || task.Info.Entity == nil {
		return
	}
	entity := *task.Info.Entity
	original := task.Execute
	switch task.Info.DescriptionId {
	case "HostSystem." + enterMaintenance:
		task.Execute = func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return nil, s.startEnter(ref, entity)
		}
	case "HostSystem." + exitMaintenance:
		task.Execute = func(t *simulator.Task) (types.AnyType, types.BaseMethodFault) {
			if fault := s.hostFault(entity, exitMaintenance); fault != nil {
				return nil, fault
			}
			return original(t)
		}
	case "VirtualMachine.relocateVm":
		task.Execute = func(t *simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return s.relocate(entity, t, original)
		}
	}
}

// hostFault is the fault a host task must fail with: the host is not connected, or
// a test injected a failure for this task.
func (s *sim) hostFault(ref types.ManagedObjectReference, taskName string) types.BaseMethodFault {
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	if host.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		return &types.HostNotConnected{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failTask[ref] == taskName {
		return &types.SystemError{Reason: "injected fault: " + taskName + " fails"}
	}
	return nil
}

func (s *sim) startEnter(task, host types.ManagedObjectReference) types.BaseMethodFault {
	if fault := s.hostFault(host, enterMaintenance); fault != nil {
		return fault
	}
	s.mu.Lock()
	s.pending[task] = host
	s.mu.Unlock()
	return nil
}

// slowTask is a task that stays running after its SOAP call returned and can be
// cancelled, as vCenter's maintenance-mode task is (vcsim 0.24 tasks are synchronous).
type slowTask struct {
	simulator.Task
	cancel chan struct{}
	once   sync.Once
}

func (t *slowTask) CancelTask(*types.CancelTask) soap.HasFault {
	t.once.Do(func() { close(t.cancel) })
	return &methods.CancelTaskBody{Res: &types.CancelTaskResponse{}}
}

// onTaskSuccess turns a just-finished enter-maintenance task back into a running,
// cancellable one and lets a goroutine finish it when the host is empty.
func (s *sim) onTaskSuccess(ref types.ManagedObjectReference) {
	s.mu.Lock()
	host, ok := s.pending[ref]
	delete(s.pending, ref)
	s.mu.Unlock()
	if !ok {
		return
	}
	done := simulator.Map.Get(ref).(*simulator.Task)
	task := &slowTask{Task: simulator.Task{Task: done.Task}, cancel: make(chan struct{})}
	task.Info.State = types.TaskInfoStateRunning
	task.Info.CompleteTime = nil
	task.Info.Result = nil
	task.Info.Error = nil
	simulator.Map.Put(task)
	go s.enterWhenEmpty(task, host)
}

func (s *sim) enterWhenEmpty(task *slowTask, host types.ManagedObjectReference) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !s.tryEnter(host) {
		select {
		case <-task.cancel:
			finishTask(task, &types.RequestCanceled{})
			return
		case <-tick.C:
		}
	}
	finishTask(task, nil)
}

// tryEnter evacuates the host when DRS is fully automated and puts it in maintenance
// once no powered-on VM is left, as vCenter does.
func (s *sim) tryEnter(ref types.ManagedObjectReference) bool {
	s.mu.Lock()
	stuck := s.stuck[ref]
	s.mu.Unlock()
	if stuck {
		return false
	}
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	cluster := clusterOf(host)
	if cluster != nil && drsFullyAutomated(cluster) {
		s.evacuate(host, cluster)
	}
	entered := false
	simulator.Map.WithLock(host, func() {
		if len(poweredOnVMs(host.Vm)) == 0 {
			simulator.Map.Update(host, []types.PropertyChange{{Name: "runtime.inMaintenanceMode", Val: true}})
			entered = true
		}
	})
	return entered
}

func finishTask(task *slowTask, fault types.BaseMethodFault) {
	changes := []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateSuccess},
	}
	if fault != nil {
		changes[1].Val = types.TaskInfoStateError
		changes = append(changes, types.PropertyChange{Name: "info.error", Val: types.LocalizedMethodFault{
			Fault: fault, LocalizedMessage: fmt.Sprintf("%T", fault),
		}})
	}
	simulator.Map.WithLock(task, func() { simulator.Map.Update(task, changes) })
}

func clusterOf(host *simulator.HostSystem) *simulator.ClusterComputeResource {
	if host.Parent == nil {
		return nil
	}
	cluster, _ := simulator.Map.Get(*host.Parent).(*simulator.ClusterComputeResource)
	return cluster
}

func drsFullyAutomated(cluster *simulator.ClusterComputeResource) bool {
	drs := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx).DrsConfig
	return drs.Enabled != nil && *drs.Enabled && drs.DefaultVmBehavior == types.DrsBehaviorFullyAutomated
}

func poweredOnVMs(refs []types.ManagedObjectReference) []*simulator.VirtualMachine {
	var on []*simulator.VirtualMachine
	for _, ref := range refs {
		vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if ok && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			on = append(on, vm)
		}
	}
	return on
}

// evacuate moves each powered-on VM that may move to the connected, non-maintenance
// host of the cluster with the most free memory; VMs that cannot move stay.
func (s *sim) evacuate(host *simulator.HostSystem, cluster *simulator.ClusterComputeResource) {
	var vms []*simulator.VirtualMachine
	simulator.Map.WithLock(host, func() { vms = poweredOnVMs(host.Vm) })
	for _, vm := range vms {
		if s.refuses(vm.Self) {
			continue
		}
		if target := pickTarget(cluster, host.Self, vm); target != nil {
			moveVM(vm, host, target)
		}
	}
}

func (s *sim) refuses(vm types.ManagedObjectReference) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refuse[vm]
}

func pickTarget(cluster *simulator.ClusterComputeResource, source types.ManagedObjectReference, vm *simulator.VirtualMachine) *simulator.HostSystem {
	var best *simulator.HostSystem
	var bestFree int64
	for _, ref := range cluster.Host {
		host := simulator.Map.Get(ref).(*simulator.HostSystem)
		if ref == source || !available(host) || !canRunOn(cluster, vm, ref) {
			continue
		}
		if free := freeMemoryMB(host); best == nil || free > bestFree {
			best, bestFree = host, free
		}
	}
	return best
}

func available(host *simulator.HostSystem) bool {
	return host.Runtime.ConnectionState == types.HostSystemConnectionStateConnected && !host.Runtime.InMaintenanceMode
}

func freeMemoryMB(host *simulator.HostSystem) int64 {
	free := host.Summary.Hardware.MemorySize / (1024 * 1024)
	for _, vm := range poweredOnVMs(host.Vm) {
		free -= int64(vm.Summary.Config.MemorySizeMB)
	}
	return free
}

// canRunOn applies the vSphere rules that keep a VM where it is.
func canRunOn(cluster *simulator.ClusterComputeResource, vm *simulator.VirtualMachine, target types.ManagedObjectReference) bool {
	return whyNot(cluster, vm, target) == ""
}

// whyNot says why vm cannot run on target (a passthrough device, a datastore the
// target does not mount, a mandatory VM-host rule), or "" if it can.
func whyNot(cluster *simulator.ClusterComputeResource, vm *simulator.VirtualMachine, target types.ManagedObjectReference) string {
	for _, device := range vm.Config.Hardware.Device {
		if _, ok := device.(*types.VirtualPCIPassthrough); ok {
			return "virtual machine " + vm.Name + " has a PCI passthrough device"
		}
	}
	for _, ref := range vm.Datastore {
		if !mounts(ref, target) {
			return "a datastore of " + vm.Name + " is not accessible from the target host"
		}
	}
	if !rulesAllow(cluster.ConfigurationEx.(*types.ClusterConfigInfoEx), vm.Self, target) {
		return "a mandatory VM-host affinity rule keeps " + vm.Name + " off the target host"
	}
	return ""
}

func mounts(datastore, host types.ManagedObjectReference) bool {
	ds, ok := simulator.Map.Get(datastore).(*simulator.Datastore)
	if !ok {
		return false
	}
	for _, mount := range ds.Host {
		if mount.Key == host {
			return true
		}
	}
	return false
}

func rulesAllow(cfg *types.ClusterConfigInfoEx, vm, host types.ManagedObjectReference) bool {
	groups := map[string]types.BaseClusterGroupInfo{}
	for _, group := range cfg.Group {
		groups[group.GetClusterGroupInfo().Name] = group
	}
	for _, base := range cfg.Rule {
		rule, ok := base.(*types.ClusterVmHostRuleInfo)
		if !ok || rule.Mandatory == nil || !*rule.Mandatory || rule.Enabled == nil || !*rule.Enabled {
			continue
		}
		vms, _ := groups[rule.VmGroupName].(*types.ClusterVmGroup)
		hosts, _ := groups[rule.AffineHostGroupName].(*types.ClusterHostGroup)
		if vms != nil && hosts != nil && contains(vms.Vm, vm) && !contains(hosts.Host, host) {
			return false
		}
	}
	return true
}

func contains(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) bool {
	for _, r := range refs {
		if r == ref {
			return true
		}
	}
	return false
}

// moveVM keeps both hosts' vm lists and the VM's runtime.host consistent, which
// vcsim 0.24's RelocateVM does not.
func moveVM(vm *simulator.VirtualMachine, from, to *simulator.HostSystem) {
	simulator.Map.RemoveReference(from, &from.Vm, vm.Self)
	simulator.Map.AddReference(to, &to.Vm, vm.Self)
	target := to.Self
	simulator.Map.WithLock(vm, func() {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.host", Val: &target},
			{Name: "summary.runtime.host", Val: &target},
		})
	})
}

// relocate runs vcsim's RelocateVM, then refuses a move vSphere would refuse (or a
// test made refuse) and otherwise fixes the hosts' vm lists.
func (s *sim) relocate(ref types.ManagedObjectReference, task *simulator.Task, original func(*simulator.Task) (types.AnyType, types.BaseMethodFault)) (types.AnyType, types.BaseMethodFault) {
	vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	source := *vm.Runtime.Host
	result, fault := original(task)
	if fault != nil || *vm.Runtime.Host == source {
		return result, fault
	}
	target := *vm.Runtime.Host
	from := simulator.Map.Get(source).(*simulator.HostSystem)
	to := simulator.Map.Get(target).(*simulator.HostSystem)
	cluster := clusterOf(from)
	if s.refuses(ref) || !available(to) || (cluster != nil && !canRunOn(cluster, vm, target)) {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.host", Val: &source},
			{Name: "summary.runtime.host", Val: &source},
		})
		return nil, migrationFault(vm.Name + " cannot migrate to " + to.Name)
	}
	simulator.Map.RemoveReference(from, &from.Vm, ref)
	simulator.Map.AddReference(to, &to.Vm, ref)
	return result, nil
}

func migrationFault(message string) types.BaseMethodFault {
	return &types.MigrationFault{VimFault: types.VimFault{MethodFault: types.MethodFault{
		FaultMessage: []types.LocalizableMessage{{Key: "com.idrac-orch.harness.migration", Message: message}},
	}}}
}

// serveControl starts the loopback-only control endpoint the iDRAC simulator and the
// tests call; it returns the address it listens on.
func serveControl(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%s is not a loopback address", host)
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hosts/", state.handleHost)
	mux.HandleFunc("/vms/", state.handleVM)
	mux.HandleFunc("/faults", state.handleClearFaults)
	go http.Serve(listener, mux)
	return listener.Addr().String(), nil
}

func reply(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func replyError(w http.ResponseWriter, status int, message string) {
	reply(w, status, map[string]string{"error": message})
}

// handleHost serves POST /hosts/{service_tag}/connection, /faults and /move, and
// DELETE /hosts/{service_tag} (the host is removed from vCenter's inventory).
func (s *sim) handleHost(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/hosts/"), "/")
	ref, ok := s.hostByTag[parts[0]]
	if !ok {
		replyError(w, http.StatusNotFound, "no host with service tag "+parts[0])
		return
	}
	if len(parts) == 1 && r.Method == http.MethodDelete {
		s.removeHost(w, parts[0], ref)
		return
	}
	if len(parts) != 2 || r.Method != http.MethodPost {
		replyError(w, http.StatusNotFound, "use POST /hosts/{service_tag}/connection, /faults or /move, or DELETE /hosts/{service_tag}")
		return
	}
	switch parts[1] {
	case "connection":
		s.setConnection(w, r, ref)
	case "faults":
		s.setHostFaults(w, r, ref)
	case "move":
		s.moveHost(w, r, ref)
	default:
		replyError(w, http.StatusNotFound, "unknown host resource "+parts[1])
	}
}

// moveHost serves POST /hosts/{service_tag}/move {"cluster": name}: the host (and its
// VMs) leave their cluster for the named one, as dragging a host in the vSphere Client
// does (vcsim 0.24 has no ClusterComputeResource.MoveInto).
func (s *sim) moveHost(w http.ResponseWriter, r *http.Request, ref types.ManagedObjectReference) {
	var body struct {
		Cluster string `json:"cluster"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		replyError(w, http.StatusBadRequest, "body must be JSON {\"cluster\": ...}: "+err.Error())
		return
	}
	target, ok := s.clusterByName[body.Cluster]
	if !ok {
		replyError(w, http.StatusNotFound, "no cluster named "+body.Cluster)
		return
	}
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	to := simulator.Map.Get(target).(*simulator.ClusterComputeResource)
	if from := clusterOf(host); from != nil {
		simulator.Map.RemoveReference(from, &from.Host, ref)
	}
	simulator.Map.AddReference(to, &to.Host, ref)
	simulator.Map.WithLock(host, func() {
		simulator.Map.Update(host, []types.PropertyChange{{Name: "parent", Val: &target}})
	})
	reply(w, http.StatusOK, map[string]string{"host": host.Name, "cluster": body.Cluster})
}

// removeHost serves DELETE /hosts/{service_tag}: the host leaves its cluster and the
// inventory, VMs and all (vcsim 0.24's HostSystem.Destroy refuses a host with VMs).
func (s *sim) removeHost(w http.ResponseWriter, tag string, ref types.ManagedObjectReference) {
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	if cluster := clusterOf(host); cluster != nil {
		simulator.Map.RemoveReference(cluster, &cluster.Host, ref)
	}
	simulator.Map.Remove(ref)
	delete(s.hostByTag, tag)
	reply(w, http.StatusOK, map[string]string{"host": host.Name, "removed": "true"})
}

var powerDuring = map[string]types.HostSystemPowerState{
	string(types.HostSystemConnectionStateConnected):     types.HostSystemPowerStatePoweredOn,
	string(types.HostSystemConnectionStateNotResponding): types.HostSystemPowerStateUnknown,
	string(types.HostSystemConnectionStateDisconnected):  types.HostSystemPowerStateUnknown,
}

func (s *sim) setConnection(w http.ResponseWriter, r *http.Request, ref types.ManagedObjectReference) {
	var body struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		replyError(w, http.StatusBadRequest, "body must be JSON {\"state\": ...}: "+err.Error())
		return
	}
	power, ok := powerDuring[body.State]
	if !ok {
		replyError(w, http.StatusBadRequest, "state must be connected, notResponding or disconnected, not "+body.State)
		return
	}
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	simulator.Map.WithLock(host, func() {
		changes := []types.PropertyChange{
			{Name: "runtime.connectionState", Val: types.HostSystemConnectionState(body.State)},
			{Name: "runtime.powerState", Val: power},
		}
		if power == types.HostSystemPowerStatePoweredOn && host.Runtime.PowerState != power {
			booted := time.Now()
			changes = append(changes, types.PropertyChange{Name: "runtime.bootTime", Val: &booted})
		}
		simulator.Map.Update(host, changes)
	})
	reply(w, http.StatusOK, map[string]string{"host": host.Name, "state": body.State})
}

func (s *sim) setHostFaults(w http.ResponseWriter, r *http.Request, ref types.ManagedObjectReference) {
	var body struct {
		FailTask string `json:"fail_task"`
		Stuck    bool   `json:"stuck_entering_maintenance"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		replyError(w, http.StatusBadRequest, "body must be JSON: "+err.Error())
		return
	}
	if body.FailTask != "" && body.FailTask != enterMaintenance && body.FailTask != exitMaintenance {
		replyError(w, http.StatusBadRequest, "fail_task must be enterMaintenanceMode or exitMaintenanceMode")
		return
	}
	s.mu.Lock()
	s.failTask[ref] = body.FailTask
	s.stuck[ref] = body.Stuck
	s.mu.Unlock()
	reply(w, http.StatusOK, body)
}

// handleVM serves POST /vms/{name}/faults with {"refuse_migration": bool}.
func (s *sim) handleVM(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/vms/"), "/")
	if len(parts) != 2 || parts[1] != "faults" || r.Method != http.MethodPost {
		replyError(w, http.StatusNotFound, "use POST /vms/{name}/faults")
		return
	}
	ref, ok := s.vmByName[parts[0]]
	if !ok {
		replyError(w, http.StatusNotFound, "no VM named "+parts[0])
		return
	}
	var body struct {
		Refuse bool `json:"refuse_migration"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		replyError(w, http.StatusBadRequest, "body must be JSON: "+err.Error())
		return
	}
	s.mu.Lock()
	s.refuse[ref] = body.Refuse
	s.mu.Unlock()
	reply(w, http.StatusOK, body)
}

// handleClearFaults serves DELETE /faults: every injected fault is removed.
func (s *sim) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodDelete {
		replyError(w, http.StatusMethodNotAllowed, "use DELETE /faults")
		return
	}
	s.mu.Lock()
	s.failTask = map[types.ManagedObjectReference]string{}
	s.stuck = map[types.ManagedObjectReference]bool{}
	s.refuse = map[types.ManagedObjectReference]bool{}
	s.mu.Unlock()
	reply(w, http.StatusOK, map[string]string{"faults": "cleared"})
}

// provisioningChecker answers CheckMigrate_Task (vcsim 0.24 has none) with the rules
// evacuation applies, so a preflight hears from vCenter why a VM cannot move.
type provisioningChecker struct {
	mo.VirtualMachineProvisioningChecker
}

// CheckMigrateTask runs as a task of the VM, as vCenter's does (its entity is the VM).
func (c *provisioningChecker) CheckMigrateTask(req *types.CheckMigrate_Task) soap.HasFault {
	vm := simulator.Map.Get(req.Vm)
	if vm == nil {
		return &methods.CheckMigrate_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.Vm})}
	}
	task := simulator.CreateTask(vm, "checkMigrate", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return state.checkMigrate(req.Vm, req.Host)
	})
	return &methods.CheckMigrate_TaskBody{Res: &types.CheckMigrate_TaskResponse{Returnval: task.Run()}}
}

// checkMigrate returns one result per target: the given host, or else every other
// available host of the VM's cluster.
func (s *sim) checkMigrate(ref types.ManagedObjectReference, host *types.ManagedObjectReference) (types.AnyType, types.BaseMethodFault) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return nil, &types.ManagedObjectNotFound{Obj: ref}
	}
	source := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	cluster := clusterOf(source)
	if cluster == nil {
		return []types.CheckResult{}, nil
	}
	targets := cluster.Host
	if host != nil {
		targets = []types.ManagedObjectReference{*host}
	}
	var results []types.CheckResult
	for _, target := range targets {
		candidate := simulator.Map.Get(target).(*simulator.HostSystem)
		if target == source.Self || (host == nil && !available(candidate)) {
			continue
		}
		results = append(results, s.checkOne(cluster, vm, target))
	}
	return results, nil
}

func (s *sim) checkOne(cluster *simulator.ClusterComputeResource, vm *simulator.VirtualMachine, target types.ManagedObjectReference) types.CheckResult {
	vmRef, hostRef := vm.Self, target
	result := types.CheckResult{Vm: &vmRef, Host: &hostRef}
	reason := whyNot(cluster, vm, target)
	if s.refuses(vm.Self) {
		reason = "migration of " + vm.Name + " is refused (fault injected by the test harness)"
	}
	if reason != "" {
		result.Error = []types.LocalizedMethodFault{{Fault: migrationFault(reason), LocalizedMessage: reason}}
	}
	return result
}
